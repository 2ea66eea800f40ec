"""DynamoDB Stream consumers: record → item → small idempotent reactions."""
