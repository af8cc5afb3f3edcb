"""The sample size of well-known image datasets: (C, H, W) of one image (None where it varies)."""

IMAGE_DATASETS = {**dict.fromkeys(("MNIST", "FashionMNIST", "KMNIST", "EMNIST", "QMNIST"), (1, 28, 28)),
                  **dict.fromkeys(("CIFAR10", "CIFAR100", "SVHN"), (3, 32, 32)), "STL10": (3, 96, 96),
                  **dict.fromkeys(("ImageFolder", "ImageNet", "Places365", "Caltech101", "Flowers102", "Food101",
                                   "OxfordIIITPet", "StanfordCars"), (3, None, None))}
