"""The demo sweep's trainable (hpogrid's example 1): minimise loss = (height - 14)**2 - abs(width - 3).

A generator trainable: one result per step, the loss reaching the objective at the last one, so
the sweep records intermediate results as a real training would."""


def demo_objective(config):
    target = (config["height"] - 14) ** 2 - abs(config["width"] - 3)
    for step in range(3):
        yield {"loss": target + (2 - step), "step": step}
