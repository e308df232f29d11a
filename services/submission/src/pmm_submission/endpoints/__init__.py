"""The HTTP API, one router per part of the domain."""

from fastapi import APIRouter

from pmm_submission.endpoints import cycles, feeds, members, submissions


def routers() -> list[APIRouter]:
    return [members.router, cycles.router, submissions.router, feeds.router]
