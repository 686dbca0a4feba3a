"""An Auptimizer-style script: ``main`` takes the hyperparameters as keywords and returns
[main result, extra results...], named by resource_args.multi_res_labels (here ["x2", "y2"])."""


def main(x, y):
    return [(x - 1) ** 2 + (y + 2) ** 2, x * x, y * y]
