"""The main job: a whole PMM cycle run on figures administrations published.

It drives the four running services through their public APIs only, as the
Secretariat, each administration's NCP and a reviewer would: it opens the cycle,
imports each administration's published figures through its own feed mapping (a dry
run, then applied), submits, waits for the scores, runs one peer review with a
correction, accepts the submissions and publishes the cycle report.
"""
