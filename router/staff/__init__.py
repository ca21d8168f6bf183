"""Staff: accounts and sign-in factors, the one authorisation rule, the audit trail."""
