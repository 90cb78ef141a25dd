/**
 * hip-ffm: the Java binding of HIP's external resource interoperability API, built on the FFM API.
 *
 * <p>Start with {@link io.github.hipffm.Hip}. The packages {@code io.github.hipffm.bindings.*} are the raw
 * jextract bindings (generated, one class per C header set); they are exported for experts who need a call the
 * idiomatic layer does not offer, and carry no compatibility promise.
 */
module io.github.hipffm {
    exports io.github.hipffm;
    exports io.github.hipffm.bindings.hip;
    exports io.github.hipffm.bindings.hiprtc;
    exports io.github.hipffm.bindings.cuda;
    exports io.github.hipffm.bindings.nvrtc;
}
