"""What Amazon Bedrock's two APIs (providers/bedrock_invoke, providers/bedrock_converse) share: the runtime's
envelope on the wire (`wire.py`: the model id in the URL, the operation, CountTokens) and its emulation
(`emulator.py`); their AWS credentials are in providers/_aws.py."""
