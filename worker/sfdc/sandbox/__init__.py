"""The sandbox org: a local HTTPS server that speaks the Salesforce REST API."""
