import torch
import torch.nn as nn


# The LSTM was sized for its hidden width, not the embedding; the bidirectional
# LSTM gives 2 * hidden features to the tag layer.
# cnnlint: input=(4, 20) dtype=long
class Tagger(nn.Module):
    def __init__(self, vocab=1000, emb=100, hidden=128, tags=9):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden, tags)

    def forward(self, x):
        out, _ = self.lstm(self.embed(x))
        return self.fc(out)
