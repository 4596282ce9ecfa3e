"""Per-student variants of a lesson (placeholder: the lesson itself)."""


def variant_of(scenario, student):
    """The student's variant of scenario."""
    return scenario
