"""Thought 3: CycleGAN (Zhu, Park, Isola, Efros, ICCV 2017, arXiv 1703.10593) and its one-to-many limit.

Modules, top-down: ``networks`` (ResNet generator, PatchGAN discriminator), ``parts`` (LSGAN loss,
image pool, learning-rate schedule), ``data`` (trainA/trainB folders), ``digits`` (the embedded
unpaired digit task), ``recipe`` (one training iteration, as a recipe of the training core),
``training`` (checkpoints, resume, sample grids, loss curves), ``tools`` (translate, evaluate),
``one_to_many`` (CycleGAN, noise-input and Augmented CycleGAN for any one-to-many task, with exact
diversity scores), ``toy`` (the 2-D one-to-many task), ``tints`` (digits → K tints), ``study`` and
``study_figures`` (the ``cyclegan-diversity`` study), ``cli`` (``thoughtlab cyclegan …``).
"""

THOUGHT = "3. CycleGAN's cycle loss"
