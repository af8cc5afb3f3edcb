import torch
import torch.nn as nn


# cnnlint: input=(4, 1, 28, 28)
class LeNet(nn.Module):
    def __init__(self, hidden=84):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)       # MNIST has one channel
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5,  # the 32x32 LeNet size
                             120)
        self.bn = nn.BatchNorm1d(100)
        self.fc2 = nn.Linear(120, hidden)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.relu(self.bn(self.fc1(torch.flatten(x, 1))))
        return self.fc2(x)
