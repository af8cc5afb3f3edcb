import torch.nn as nn


# cnnlint: input=(8, 40) dtype=long
class TextCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(5000, 64)
        self.conv = nn.Conv1d(64, 32, 3)
        self.lstm = nn.LSTM(16, 16, batch_first=True)

    def forward(self, tokens):
        x = self.conv(self.emb(tokens))
        out, _ = self.lstm(x.transpose(1, 2))
        return out
