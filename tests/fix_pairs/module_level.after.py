import torch
import torch.nn as nn

HIDDEN = 64

# A module constant: the second layer reads the width the first one makes.
# cnnlint: input=(4, 10)
model = nn.Sequential(nn.Linear(10, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 1))

# Widths changed by a loop: `c` means another size at each step, so the number is written.
layers = []
c = 8
for i in range(2):
    layers.append(nn.Conv2d(c, c * 2, 3))
    c = c * 2
# cnnlint: input=(2, 3, 16, 16)
net = nn.Sequential(nn.Conv2d(3, 8, 3), *layers, nn.Flatten(), nn.Linear(3200, 10))
