"""hpogrid's example 1: minimise loss = (height - 14)**2 - abs(width - 3).

A generator trainable: one result per step; the loss approaches the objective and equals it
at the last step (``steps``, default 5, may come from model_config.param)."""


def objective(height: float, width: float) -> float:
    return (height - 14) ** 2 - abs(width - 3)


def simple_objective(config):
    steps = int(config.get("steps", 5))
    target = objective(config["height"], config["width"])
    for step in range(steps):
        yield {"loss": target + (steps - 1 - step), "step": step}
