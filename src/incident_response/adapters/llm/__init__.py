"""LLM drafters: Amazon Bedrock, Anthropic's Messages API and OpenAI-compatible endpoints."""
