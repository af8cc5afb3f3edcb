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
