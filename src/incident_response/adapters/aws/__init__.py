"""Production adapters on AWS's managed engines (DynamoDB, ...), behind the same ports as the
embedded SQLite default.

boto3 is synchronous, so every call goes through `asyncio.to_thread`; each adapter owns one client
(clients are thread-safe, sessions are not). Tests run them over real HTTP against moto's server.
"""
