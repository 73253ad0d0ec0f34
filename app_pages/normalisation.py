"""Input normalisation (lecture 3.2.2, Fig. 46): at one learning rate, raw pixel values train far
worse than rescaled, min-max or z-normalised inputs."""
from studies import normalisation
from ui.page import study_page

study_page(normalisation)
