"""CRM adapters behind the CrmGateway port: Salesforce (simple-salesforce), CSV exports, in memory."""
