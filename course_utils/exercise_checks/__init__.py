"""Exercise checks (exercises/ and solutions/, lessons 01-07): one module per lesson.

(``lesson00`` holds the check of lesson 00's in-lesson coding task, which is not graded.)

A check cell runs right after each task, e.g.::

    from course_utils.exercise_checks import check_pca_fit

    check_pca_fit(fit_pca)

and shows one line: that the task is right, or what is wrong and what to try. ``core`` holds the
result and message machinery (and the ``@check`` decorator every check wears), ``expect`` the
shared expectations (types, shapes, values, gradients, random generators), ``predict`` the
"predict, then run" questions, ``vae_reference`` what the VAE checks of lessons 06 and 07 share,
``lesson01`` ... ``lesson07`` the checks themselves (one module per lesson, each with its own
independent reference), and ``passed`` the message a student reads when a task is right.
Messages are in English, or in Vietnamese when COURSE_LANG=vi.

``POINTS`` maps every task id (a column of the grading CSV) to its points.
"""

from course_utils.exercise_checks import (
    lesson01,
    lesson02,
    lesson03,
    lesson04,
    lesson05,
    lesson06,
    lesson07,
)
from course_utils.exercise_checks.core import CheckResult
from course_utils.exercise_checks.lesson01 import (
    check_pca_codec,
    check_pca_fit,
    check_pca_from_autoencoder,
    check_prediction_turn_cost,
    check_principal_angles,
    check_train_step,
)
from course_utils.exercise_checks.lesson02 import (
    check_auroc,
    check_centred_ae,
    check_count_dead_units,
    check_prediction_tied_params,
    check_threshold_at_false_alarm,
    check_tied_decode,
)
from course_utils.exercise_checks.lesson03 import (
    check_conv_decoder,
    check_conv_encoder,
    check_conv_sizes,
    check_evaluate_mse,
    check_parity_sums,
    check_prediction_transpose_shape,
    check_receptive_field,
)
from course_utils.exercise_checks.lesson04 import (
    check_denoising_loss,
    check_gaussian_noise,
    check_masking_noise,
    check_prediction_psnr,
    check_psnr,
    check_salt_and_pepper,
)
from course_utils.exercise_checks.lesson05 import (
    check_bernoulli_kl,
    check_kl_sparsity_penalty,
    check_l1_penalty,
    check_prediction_rate_shape,
)
from course_utils.exercise_checks.lesson06 import (
    check_gaussian_kl,
    check_interpolate,
    check_prediction_z_shape,
    check_reparameterize,
    check_sample_prior,
    check_vae_loss,
)
from course_utils.exercise_checks.lesson07 import (
    check_beta_vae_loss,
    check_concat_one_hot,
    check_cvae_forward,
    check_prediction_decoder_width,
)
from course_utils.exercise_checks.missing_answer import install_name_error_hint

LESSONS = {
    "01_linear_autoencoder_and_pca": lesson01,
    "02_stacked_autoencoders": lesson02,
    "03_convolutional_autoencoders": lesson03,
    "04_denoising_autoencoders": lesson04,
    "05_sparse_autoencoders": lesson05,
    "06_variational_autoencoders": lesson06,
    "07_beyond_the_vanilla_vae": lesson07,
}
POINTS: dict[str, float] = {
    task: p for module in LESSONS.values() for task, p in module.POINTS.items()
}

__all__ = [
    "LESSONS",
    "POINTS",
    "CheckResult",
    "check_auroc",
    "check_bernoulli_kl",
    "check_beta_vae_loss",
    "check_centred_ae",
    "check_concat_one_hot",
    "check_conv_decoder",
    "check_conv_encoder",
    "check_conv_sizes",
    "check_count_dead_units",
    "check_cvae_forward",
    "check_denoising_loss",
    "check_evaluate_mse",
    "check_gaussian_kl",
    "check_gaussian_noise",
    "check_interpolate",
    "check_kl_sparsity_penalty",
    "check_l1_penalty",
    "check_masking_noise",
    "check_parity_sums",
    "check_pca_codec",
    "check_pca_fit",
    "check_pca_from_autoencoder",
    "check_prediction_decoder_width",
    "check_prediction_psnr",
    "check_prediction_rate_shape",
    "check_prediction_tied_params",
    "check_prediction_turn_cost",
    "check_prediction_transpose_shape",
    "check_prediction_z_shape",
    "check_principal_angles",
    "check_psnr",
    "check_receptive_field",
    "check_reparameterize",
    "check_salt_and_pepper",
    "check_sample_prior",
    "check_threshold_at_false_alarm",
    "check_tied_decode",
    "check_train_step",
    "check_vae_loss",
]

install_name_error_hint()  # in Jupyter: a check cell run too early says so (missing_answer)
