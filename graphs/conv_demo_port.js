/* cnnref's convolution, ported to JavaScript for the demo on the notes' Convolutional Layer page.
 *
 * Read it next to cnnref: the same names, the same loops, the same refusals. Volumes are nested arrays
 * indexed as NumPy indexes them: X[i][j][d] for X (H, W, D) and W[k][a][c][d] for filters W (K, F, F, D).
 * The demo feeds it whole numbers, so every result is exact and the tests compare it with cnnref
 * number for number (tests/browser/test_browser_demo.py). No library, no request.
 */
(function (root) {
  "use strict";

  // output_size(W1, F, S, P, dilation, exact): the notes' W2 = (W1 - F + 2P)/S + 1, where a filter
  // with dilation spans dilation (F - 1) + 1 input cells. exact = true refuses a stride that does not
  // tile the padded input (cnnref's ValueError, same words); exact = false floors, as PyTorch does.
  function outputSize(W1, F, S = 1, P = 0, dilation = 1, exact = true, name = "W1") {
    const span = dilation * (F - 1) + 1;  // the filter's extent on the input, gaps included
    const filter = dilation === 1 ? `filter F = ${F}` : `dilated filter dilation (F - 1) + 1 = ${dilation} (${F} - 1) + 1 = ${span}`;
    const formula = dilation === 1
      ? `(${name} - F + 2P)/S + 1 = (${W1} - ${F} + ${2 * P})/${S} + 1`
      : `(${name} - dilation (F - 1) - 1 + 2P)/S + 1 = (${W1} - ${dilation} (${F} - 1) - 1 + ${2 * P})/${S} + 1`;
    if (span > W1 + 2 * P) {
      throw new Error(`${filter} is larger than the padded input ${name} + 2P = ${W1} + ${2 * P} = ${W1 + 2 * P}`);
    }
    const W2 = (W1 + 2 * P - span) / S + 1;
    if (!Number.isInteger(W2) && exact) {
      throw new Error(`${formula} = ${g(W2)} is not a whole number: stride S = ${S} does not tile the padded input; ` +
        `change F, S or P (exact=False floors it to ${Math.floor(W2)}, as PyTorch does)`);
    }
    return Math.floor(W2);  // floors: the last rows and columns that no whole window reaches are dropped
  }

  // conv_transpose_output_size: H1 = S (H2 - 1) + dilation (F - 1) + 1 - 2P + output_padding, the input
  // size whose convolution gives H2 (output_padding picks one of the sizes a stride maps to H2).
  function transposeOutputSize(H2, F, S = 1, P = 0, outputPadding = 0, dilation = 1, name = "H2") {
    if (outputPadding >= Math.max(S, dilation)) {
      throw new Error(`output_padding = ${outputPadding} must be smaller than the stride S = ${S} or the dilation = ` +
        `${dilation}, as in PyTorch`);
    }
    const H1 = S * (H2 - 1) + dilation * (F - 1) + 1 - 2 * P + outputPadding;
    if (H1 < 1) {
      throw new Error(`S (${name} - 1) + dilation (F - 1) + 1 - 2P + output_padding = ${S} (${H2} - 1) + ${dilation} ` +
        `(${F} - 1) + 1 - ${2 * P} + ${outputPadding} = ${H1}: the padding P = ${P} crops away the whole output`);
    }
    return H1;
  }

  // Python's f"{x:g}" for the numbers above: six significant digits, no trailing zeros (2.5, 2.33333).
  function g(x) {
    return String(Number(x.toPrecision(6)));
  }

  // A volume (H, W, D) of zeros.
  function zeros(H, W, D) {
    return Array.from({ length: H }, () => Array.from({ length: W }, () => new Array(D).fill(0)));
  }

  // zero_pad(X, P): X (H, W, D) with a border of P zeros on each side of both spatial axes.
  function zeroPad(X, P) {
    const X_pad = zeros(X.length + 2 * P, X[0].length + 2 * P, X[0][0].length);
    X.forEach((row, i) => row.forEach((x, j) => { X_pad[i + P][j + P] = x.slice(); }));
    return X_pad;
  }

  // The products that make one output activation V[i, j, k], as the demo writes them out, depth slice by
  // depth slice: X_pad[i*S + a*dilation, j*S + c*dilation, d] * W[k, a, c, d] for every a, c (filter rows,
  // columns) and d.
  function products(X_pad, W, i, j, k, S = 1, dilation = 1) {
    const F = W[k].length, D = W[k][0][0].length, out = [];
    for (let d = 0; d < D; d++) {
      for (let a = 0; a < F; a++) {
        for (let c = 0; c < F; c++) {
          const y = i * S + a * dilation, x = j * S + c * dilation;  // where the tap (a, c) lands in X_pad
          out.push({ y, x, d, a, c, x_value: X_pad[y][x][d], w_value: W[k][a][c][d] });
        }
      }
    }
    return out;
  }

  // conv2d_naive(X, W, b, S, P, dilation, exact): V[i, j, k] = sum(X_pad window * W[k]) + b[k].
  // X (H1, W1, D1), W (K, F, F, D1), b (K,) -> V (H2, W2, K). Cross-correlation: the filter is not flipped.
  function conv2dNaive(X, W, b, S = 1, P = 0, dilation = 1, exact = true) {
    const K = W.length, F = W[0].length, D = W[0][0][0].length;
    const H2 = outputSize(X.length, F, S, P, dilation, exact, "H1");
    const W2 = outputSize(X[0].length, F, S, P, dilation, exact, "W1");
    const X_pad = zeroPad(X, P);
    const V = zeros(H2, W2, K);
    for (let i = 0; i < H2; i++) {
      for (let j = 0; j < W2; j++) {
        for (let k = 0; k < K; k++) {
          let sum = 0;  // the window times filter k, elementwise, summed
          for (let a = 0; a < F; a++) {
            for (let c = 0; c < F; c++) {
              for (let d = 0; d < D; d++) sum += X_pad[i * S + a * dilation][j * S + c * dilation][d] * W[k][a][c][d];
            }
          }
          V[i][j][k] = sum + b[k];
        }
      }
    }
    return V;
  }

  // The guide's picture of a transposed convolution: Y's entries placed S apart (S - 1 zeros between
  // neighbours), inside a border of pad = dilation*(F - 1) - P zeros (a negative border crops), with
  // output_padding more zeros at the bottom and on the right.
  function stretch(Y, S, pad, outputPadding = 0) {
    const H2 = Y.length, W2 = Y[0].length;
    const Z = zeros(S * (H2 - 1) + 1 + 2 * pad + outputPadding, S * (W2 - 1) + 1 + 2 * pad + outputPadding, Y[0][0].length);
    for (let i = 0; i < H2; i++) {
      for (let j = 0; j < W2; j++) {
        const y = pad + i * S, x = pad + j * S;
        if (y >= 0 && x >= 0 && y < Z.length && x < Z[0].length) Z[y][x] = Y[i][j].slice();
      }
    }
    return Z;
  }

  // The filters the stretched picture is convolved with: each turned 180 degrees, input and output
  // depths swapped. W (K, F, F, D) -> flipped (D, F, F, K), flipped[d][a][c][k] = W[k][F-1-a][F-1-c][d].
  function flipFilters(W) {
    const K = W.length, F = W[0].length, D = W[0][0][0].length;
    return Array.from({ length: D }, (_, d) => Array.from({ length: F }, (_, a) => Array.from({ length: F }, (_, c) =>
      Array.from({ length: K }, (_, k) => W[k][F - 1 - a][F - 1 - c][d]))));
  }

  // conv_transpose2d(Y, W, b, S, P, output_padding, dilation): the adjoint of conv2d with the same W.
  // Y (H2, W2, K), W (K, F, F, D1), b (D1,) -> (H1, W1, D1), computed as the guide draws it: the
  // stretched Y convolved at stride 1 with the flipped filters.
  function convTranspose2d(Y, W, b, S = 1, P = 0, outputPadding = 0, dilation = 1) {
    const F = W[0].length;
    transposeOutputSize(Y.length, F, S, P, outputPadding, dilation, "H2");
    transposeOutputSize(Y[0].length, F, S, P, outputPadding, dilation, "W2");
    const Z = stretch(Y, S, dilation * (F - 1) - P, outputPadding);
    return conv2dNaive(Z, flipFilters(W), b, 1, 0, dilation);
  }

  root.cnnrefConv = {
    outputSize, transposeOutputSize, zeros, zeroPad, products, conv2dNaive, stretch, flipFilters, convTranspose2d,
  };
})(typeof window !== "undefined" ? window : globalThis);
