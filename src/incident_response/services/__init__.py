"""Services: the use cases (war room, status update gate, nudges, resolution, postmortems).

They depend on ports and the domain only; the composition root hands them their adapters.
"""
