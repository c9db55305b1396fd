"""What a student reads when an exercise task is right, in English and Vietnamese (lessons 01-07).

One table for every exercise, keyed by task id (the columns of the grading CSV, as in each lesson
module's ``POINTS``). A check that passes returns the values to fill into its ``{names}`` (the
sizes it drew, the beta it used), or nothing; ``core.check`` looks the message up here. The
predict-then-run questions word their own verdicts (``predict``).
"""

PASSED: dict[str, tuple[str, str]] = {
    # exercise 01
    "pca_fit": (
        "fit_pca matches PCA by SVD on 3 random data sets.",
        "fit_pca khớp với PCA bằng SVD trên 3 bộ dữ liệu ngẫu nhiên.",
    ),
    "pca_codec": (
        "pca_encode and pca_decode are right: codes (N, k) and back to (N, D).",
        "pca_encode và pca_decode đúng: mã (N, k) rồi trở lại (N, D).",
    ),
    "principal_angles": (
        "principal_angles_deg is right (D={d}, k1={k1}, k2={k2}).",
        "principal_angles_deg đúng (D={d}, k1={k1}, k2={k2}).",
    ),
    "linear_ae_step": (
        "train_step makes one correct gradient step and returns the loss.",
        "train_step thực hiện đúng một bước gradient và trả về giá trị mất mát.",
    ),
    "pca_from_ae": (
        "pca_from_autoencoder recovers the ordered directions and variances (2 models, D={d}).",
        "pca_from_autoencoder lấy lại đúng các hướng có thứ tự và phương sai (2 mô hình, D={d}).",
    ),
    # exercise 02
    "tied_decoder": (
        "tied_decode uses the transposed encoder weight and its own bias; gradients reach both.",
        "tied_decode dùng trọng số chuyển vị của bộ mã hóa và bias riêng; gradient "
        "đến được cả hai.",
    ),
    "auroc": (
        "auroc is right, ties included.",
        "auroc đúng, kể cả khi có điểm bằng nhau.",
    ),
    "centred_ae": (
        "CentredStackedAE is right: {n} parameters, the encoder sees x - mean, and before "
        "training a last layer that adds nothing returns the mean image.",
        "CentredStackedAE đúng: {n} tham số, bộ mã hóa nhận x - mean, và trước khi huấn luyện, "
        "một lớp cuối không cộng thêm gì sẽ trả về ảnh trung bình.",
    ),
    "dead_units_count": (
        "count_dead_units is right on 2 models with planted dead units (centred first layer, "
        "over every image of the batch).",
        "count_dead_units đúng trên 2 mô hình có đơn vị chết được cài sẵn (lớp đầu đã trừ trung "
        "bình, xét trên mọi ảnh của batch).",
    ),
    "false_alarm_threshold": (
        "threshold_at_false_alarm sets the threshold on the validation errors and measures the "
        "test false-alarm rate with error >= threshold (3 cases, ties included).",
        "threshold_at_false_alarm đặt ngưỡng trên sai số kiểm định và đo tỉ lệ báo động nhầm trên "
        "tập kiểm tra với sai số >= ngưỡng (3 trường hợp, kể cả khi có giá trị bằng nhau).",
    ),
    # exercise 03
    "conv_sizes": (
        "Both size formulas agree with PyTorch's layers on 12 random settings.",
        "Cả hai công thức kích thước khớp với các lớp của PyTorch trên 12 cấu hình ngẫu nhiên.",
    ),
    "conv_encoder": (
        "The encoder maps (B, 1, 28, 28) -> (B, {c1}, 14, 14) -> (B, {c2}, 7, 7).",
        "Bộ mã hóa biến (B, 1, 28, 28) -> (B, {c1}, 14, 14) -> (B, {c2}, 7, 7).",
    ),
    "conv_decoder": (
        "The decoder maps (B, {c2}, 7, 7) -> (B, {c1}, 14, 14) -> (B, 1, 28, 28), pixels "
        "in [0, 1].",
        "Bộ giải mã biến (B, {c2}, 7, 7) -> (B, {c1}, 14, 14) -> "
        "(B, 1, 28, 28), điểm ảnh trong [0, 1].",
    ),
    "receptive_field": (
        "receptive_field agrees with a gradient measurement on 5 stacks, the lesson's encoder "
        "(7 pixels, jump 4) included.",
        "receptive_field khớp với phép đo bằng gradient trên 5 chồng lớp, kể cả bộ mã hóa của "
        "bài học (7 điểm ảnh, khoảng nhảy 4).",
    ),
    "evaluate_mse": (
        "evaluate_mse scores in eval mode under no_grad, averages over every pixel, and hands "
        "the model back in the mode it came in.",
        "evaluate_mse chấm điểm ở chế độ đánh giá dưới no_grad, lấy trung bình trên mọi điểm "
        "ảnh, và trả mô hình về đúng chế độ nó có lúc được đưa vào.",
    ),
    "parity_sums": (
        "parity_sums matches a real stride-2 ConvTranspose2d on a flat image, for 6 kernels.",
        "parity_sums khớp với một ConvTranspose2d bước trượt 2 thật trên ảnh phẳng, với 6 kernel.",
    ),
    # exercise 04
    "gaussian_noise": (
        "add_gaussian_noise: right noise level, clipped to [0, 1], driven by the generator.",
        "add_gaussian_noise: đúng mức nhiễu, cắt về [0, 1], dùng đúng generator.",
    ),
    "masking_noise": (
        "mask_pixels drops the right share of pixels and keeps the others unchanged.",
        "mask_pixels bỏ đúng tỉ lệ điểm ảnh và giữ nguyên các điểm còn lại.",
    ),
    "salt_and_pepper": (
        "salt_and_pepper hits the right share of pixels, half salt and half pepper.",
        "salt_and_pepper làm nhiễu đúng tỉ lệ điểm ảnh, nửa muối nửa tiêu.",
    ),
    "psnr": (
        "psnr is right: one value in dB per image, for any max_value.",
        "psnr đúng: mỗi ảnh một giá trị dB, với mọi max_value.",
    ),
    "denoising_loss": (
        "denoising_loss corrupts x, runs the model on the noisy copy, compares with the CLEAN x.",
        "denoising_loss làm nhiễu x, chạy mô hình trên bản nhiễu, chấm điểm so với ảnh SẠCH x.",
    ),
    # exercise 05
    "bernoulli_kl": (
        "bernoulli_kl is right, and finite at q = 0 and q = 1.",
        "bernoulli_kl đúng, và hữu hạn tại q = 0 và q = 1.",
    ),
    "kl_sparsity": (
        "kl_sparsity_penalty_per_batch is right: one KL per unit on its mean activation, summed.",
        "kl_sparsity_penalty_per_batch đúng: mỗi đơn vị một KL trên kích hoạt trung bình, "
        "rồi cộng lại.",
    ),
    "l1_penalty": (
        "mean_l1_penalty_per_image is right: sum of |h| per image, averaged over the batch.",
        "mean_l1_penalty_per_image đúng: tổng |h| của mỗi ảnh, lấy trung bình trên batch.",
    ),
    # exercise 06
    "reparameterize": (
        "reparameterize is right: z = mu + sigma * eps, gradients reach mu and logvar.",
        "reparameterize đúng: z = mu + sigma * eps, gradient đến được mu và logvar.",
    ),
    "gaussian_kl": (
        "gaussian_kl_per_image is right: one KL per image, zero when mu = 0 and logvar = 0.",
        "gaussian_kl_per_image đúng: mỗi ảnh một KL, bằng 0 khi mu = 0 và logvar = 0.",
    ),
    "vae_loss": (
        "vae_loss is right: nats per image, BCE summed over pixels plus KL summed over "
        "latent dimensions.",
        "vae_loss đúng: nat trên mỗi ảnh, BCE cộng trên điểm ảnh "
        "cộng KL cộng trên các chiều tiềm ẩn.",
    ),
    "sample_prior": (
        "sample_prior decodes codes drawn from N(0, I) and returns pixel means in [0, 1].",
        "sample_prior giải mã các mã lấy từ N(0, I) và trả về trung bình điểm ảnh trong [0, 1].",
    ),
    "interpolate": (
        "interpolate goes from z_a to z_b in equal steps, both ends included.",
        "interpolate đi từ z_a đến z_b theo các bước đều nhau, gồm cả hai đầu.",
    ),
    # exercise 07
    "cvae_concat": (
        "concat_one_hot appends the one-hot label to every row.",
        "concat_one_hot nối nhãn one-hot vào mỗi hàng.",
    ),
    "cvae_forward": (
        "cvae_forward gives the one-hot label to both the encoder and the decoder, and "
        "decodes a reparameterized sample.",
        "cvae_forward đưa nhãn one-hot cho cả bộ mã "
        "hóa lẫn bộ giải mã, và giải mã một mẫu tái tham số hóa.",
    ),
    "beta_vae_loss": (
        "beta_vae_loss is right (beta = {beta}): loss = recon + beta * kl, nats per image.",
        "beta_vae_loss đúng (beta = {beta}): loss = recon + beta * kl, nat trên mỗi ảnh.",
    ),
}
