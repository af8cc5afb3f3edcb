import keras
from keras import layers

# A DCGAN generator whose Reshape asks for twice the values the Dense layer makes.
generator = keras.Sequential(
    [
        keras.Input(shape=(128,)),
        layers.Dense(8 * 8 * 64),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Reshape((8, 8, 128)),   # the seed map
        layers.Conv2D(3, 3, padding="same", activation="tanh"),
    ],
    name="generator",
)
