"""Small models the command-line tests share: each with one known bug, and torch's numbers in the comments."""

# conv(1 -> 8, k=3) on 28x28 gives 8 x 26 x 26 = 5408 features; the Linear expects 8 * 28 * 28 = 6272.
LINEAR_BUG = """import torch.nn as nn
# cnnlint: input=(4, 1, 28, 28)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3)
        self.fc = nn.Linear(8 * 28 * 28, 10)
    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))
"""
LINEAR_FIXED = LINEAR_BUG.replace("8 * 28 * 28", "8 * 26 * 26")

# the same, plus an nn.Softmax() without dim on line 8 (a CNN204 warning)
LINEAR_AND_SOFTMAX_BUG = LINEAR_BUG.replace(
    "        self.fc = nn.Linear(8 * 28 * 28, 10)\n",
    "        self.fc = nn.Linear(8 * 28 * 28, 10)\n        self.soft = nn.Softmax()\n").replace(
    "        return self.fc(self.conv(x).flatten(1))", "        return self.soft(self.fc(self.conv(x).flatten(1)))")
