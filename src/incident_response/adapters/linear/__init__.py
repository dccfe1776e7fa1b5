"""Linear: postmortems filed as Linear issues over its GraphQL API (the IssueTracker port)."""
