"""Everything that talks to Salesforce (over simple-salesforce), and the local sandbox org."""
