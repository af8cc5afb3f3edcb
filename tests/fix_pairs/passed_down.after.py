import torch
import torch.nn as nn


class Head(nn.Module):
    def __init__(self, cin, n):
        super().__init__()
        self.fc = nn.Linear(cin, n)

    def forward(self, x):
        return self.fc(x)


# The head is built with the hidden width; the embedding gives it emb features.
# cnnlint: input=(4, 12) dtype=long
class Net(nn.Module):
    def __init__(self, emb=64, hidden=32):
        super().__init__()
        self.embed = nn.Embedding(1000, emb)
        self.head = Head(emb, 10)

    def forward(self, x):
        return self.head(self.embed(x))


class ConvBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


# The head reads the first block's width; the last block makes width * 2, passed to it as `cout`.
# cnnlint: input=(2, 3, 32, 32)
class ConvNet(nn.Module):
    def __init__(self, width=16, classes=10):
        super().__init__()
        self.features = nn.Sequential(
            ConvBlock(3, width),
            nn.MaxPool2d(2),
            ConvBlock(width, width * 2),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(width * 2, classes)

    def forward(self, x):
        return self.head(self.features(x))
