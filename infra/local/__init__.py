"""The local cloud: the whole system on one machine, no AWS account, no Docker."""
