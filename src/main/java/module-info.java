/**
 * hip-ffm: the Java binding of HIP's external resource interoperability API, built on the FFM API.
 *
 * <p>Start with {@link io.github.hipffm.Hip}. The packages {@code io.github.hipffm.bindings.*} are the raw
 * jextract bindings (generated, one class per C header set); they are exported for experts who need a call the
 * idiomatic layer does not offer, and carry no compatibility promise. They are deliberately left out of this
 * documentation: each generated class carries only the C declaration it was made from, so the reference for them is
 * the HIP (or CUDA) runtime API documentation of the same names; their source is in the sources jar.
 *
 * <p>hip-ffm calls native code: run with {@code --enable-native-access=io.github.hipffm} on the module path, or
 * {@code --enable-native-access=ALL-UNNAMED} on the class path ({@code Enable-Native-Access: ALL-UNNAMED} in the
 * manifest of an executable jar).
 */
module io.github.hipffm {
    exports io.github.hipffm;
    exports io.github.hipffm.bindings.hip;
    exports io.github.hipffm.bindings.hiprtc;
    exports io.github.hipffm.bindings.cuda;
    exports io.github.hipffm.bindings.nvrtc;
}
