def expected_task_instances() -> int:
    """Task instances of one kontrol_monthly run: the sensor, then the step table's steps.

    A step mapped per extract runs once per extract the DAG maps over (all nine: the
    optional ones too, each skipping itself when not delivered), so the count follows
    the table and the catalogue instead of a number written here.
    """
    from kontrol.catalogue import ALL_EXTRACTS
    from kontrol.steps import STEPS

    return 1 + sum(len(ALL_EXTRACTS) if step.per_extract else 1 for step in STEPS)
