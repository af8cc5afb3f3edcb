import torch
import torch.nn as nn


# A classifier that ends in Softmax, trained with CrossEntropyLoss.
# cnnlint: input=(8, 20)
classifier = nn.Sequential(
    nn.Linear(20, 64),
    nn.ReLU(),
    nn.Linear(64, 5),  # five classes
    nn.Softmax(dim=1),  # probabilities
)


# cnnlint: input=(8, 20)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Sequential(nn.Linear(20, 5), nn.Softmax(dim=-1))

    def forward(self, x):
        return self.head(x)


def train_step():
    criterion = nn.CrossEntropyLoss()
    x = torch.randn(8, 20)
    y = torch.randint(0, 5, (8,))
    return criterion(classifier(x), y) + criterion(Net()(x), y)
