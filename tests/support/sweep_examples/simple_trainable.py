"""hpogrid's example 2: a trainable class over alpha (uniform in [-10, 10]) and beta (one of -1 ... 5).

Ray Tune's Trainable API without importing Ray: ``setup(config)`` once, ``step()`` per
iteration. The loss is Ray Tune's quick-start objective (0.1 + alpha * t / 100) ** -1 + 0.1 * beta
with |alpha|, so that negative alphas have no pole; it falls with the iteration t.
Checkpoints let PBT and resumed sweeps continue a trial where it stopped."""

import json
import os


class MyTrainableClass:
    def setup(self, config):
        self.alpha = float(config["alpha"])
        self.beta = float(config["beta"])
        self.timestep = 0

    def step(self):
        self.timestep += 1
        loss = (0.1 + abs(self.alpha) * self.timestep / 100) ** -1 + 0.1 * self.beta
        return {"loss": loss, "timestep": self.timestep}

    def save_checkpoint(self, checkpoint_dir):
        with open(os.path.join(checkpoint_dir, "state.json"), "w") as f:
            json.dump({"timestep": self.timestep}, f)

    def load_checkpoint(self, checkpoint_dir):
        with open(os.path.join(checkpoint_dir, "state.json")) as f:
            self.timestep = json.load(f)["timestep"]

    def save_model(self, model_dir):
        with open(os.path.join(model_dir, "model.json"), "w") as f:
            json.dump({"alpha": self.alpha, "beta": self.beta, "timestep": self.timestep}, f)
