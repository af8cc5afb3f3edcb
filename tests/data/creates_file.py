# Importing or running this file creates a file next to it. cnnlint must never do either.
import pathlib

import torch
import torch.nn as nn

pathlib.Path(__file__).with_name("SENTINEL_CREATED").write_text("executed")
torch.save({}, str(pathlib.Path(__file__).with_name("SENTINEL_SAVED")))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 2)
        pathlib.Path(__file__).with_name("SENTINEL_INIT").write_text("executed")

    def forward(self, x):
        return self.fc(x)


out = Net()(torch.randn(3, 7))
