"""The AI drafting eval set: incidents with planted personal data, a runner and scripted models."""
