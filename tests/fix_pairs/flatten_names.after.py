import torch
import torch.nn as nn


# The classifier was sized for `prev` channels; the conv before it makes prev * 2.
# cnnlint: input=(2, 3, 32, 32)
class Net(nn.Module):
    def __init__(self, prev=32, feat=8, classes=10):
        super().__init__()
        self.conv = nn.Conv2d(3, prev * 2, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(feat)
        self.fc = nn.Linear(prev * 2 * feat * feat, classes)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv(x)))
        return self.fc(torch.flatten(x, 1))
