"""The GraphQL documents this adapter sends, each one named operation.

They are checked against Linear's published schema in the tests (the fake Linear refuses any
document or variables the schema does not allow), so a field renamed upstream fails there
rather than in production.
"""

from __future__ import annotations

ISSUE_FIELDS = "id identifier url title"

FIND_ISSUE = f"""
query IncidentResponseFindPostmortem($id: ID!) {{
  issues(filter: {{id: {{eq: $id}}}}, first: 1, includeArchived: true) {{
    nodes {{ {ISSUE_FIELDS} }}
  }}
}}
"""

CREATE_ISSUE = f"""
mutation IncidentResponseFilePostmortem($input: IssueCreateInput!) {{
  issueCreate(input: $input) {{
    success
    issue {{ {ISSUE_FIELDS} }}
  }}
}}
"""

USER_BY_EMAIL = """
query IncidentResponseUserByEmail($email: String!) {
  users(filter: {email: {eqIgnoreCase: $email}}, first: 1) {
    nodes { id name }
  }
}
"""

PROBE = """
query IncidentResponseProbe($teamId: String!) {
  viewer { id name }
  team(id: $teamId) { id key name }
}
"""
