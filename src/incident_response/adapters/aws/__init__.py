"""Production adapters on AWS managed services: one module per service, boto3 in threads."""
