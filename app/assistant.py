class Assistant: pass
