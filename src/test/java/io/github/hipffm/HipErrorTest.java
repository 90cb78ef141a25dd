package io.github.hipffm;

import io.github.hipffm.bindings.hip.Hip;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HipErrorTest {

    /** Every hipError_t constant of the generated bindings, name to value. */
    static Map<String, Integer> bindingConstants() throws Exception {
        Map<String, Integer> all = new TreeMap<>();
        for (Method m : Hip.class.getMethods()) {
            String n = m.getName();
            if (Modifier.isStatic(m.getModifiers()) && m.getParameterCount() == 0 && m.getReturnType() == int.class
                    && (n.equals("hipSuccess") || n.startsWith("hipError"))) {
                all.put(n, (Integer) m.invoke(null));
            }
        }
        return all;
    }

    @Test
    void enumCoversEveryHipErrorConstantOfTheBindings() throws Exception {
        Map<String, Integer> constants = bindingConstants();
        assertTrue(constants.size() >= 80, "expected the whole hipError_t enum, got " + constants.keySet());
        for (var e : constants.entrySet()) {
            HipError error = HipError.ofName(e.getKey()).orElse(null);
            assertTrue(error != null, "HipError lacks " + e.getKey() + " = " + e.getValue());
            assertEquals(e.getValue(), error.code(), e.getKey());
        }
        Map<String, Integer> fromEnum = Stream.of(HipError.values())
                .collect(Collectors.toMap(HipError::hipName, HipError::code));
        fromEnum.forEach((name, code) -> assertEquals(code, constants.get(name), "HipError." + name + " not in the headers"));
    }

    @ParameterizedTest
    @EnumSource(HipError.class)
    void codesAndNamesRoundTrip(HipError e) {
        assertEquals(e, HipError.ofCode(e.code()).orElseThrow());
        assertEquals(e, HipError.ofName(e.hipName()).orElseThrow());
        e.aliases().forEach(a -> assertEquals(e, HipError.ofName(a).orElseThrow()));
    }

    @Test
    void exceptionMessageNamesCallErrorAndPlatformName() {
        var ex = new HipException(100, "hipGetDeviceCount", "no CUDA-capable device is detected", "cudaErrorNoDevice");
        assertEquals(HipError.NO_DEVICE, ex.error());
        assertEquals("hipGetDeviceCount", ex.call());
        assertEquals("hipGetDeviceCount failed: hipErrorNoDevice (100) [cudaErrorNoDevice]: "
                + "no CUDA-capable device is detected", ex.getMessage());
        var unknown = new HipException(4242, "hipFoo", "what", null);
        assertEquals(HipError.UNKNOWN, unknown.error());
        assertEquals(4242, unknown.code());
        assertTrue(unknown.getMessage().contains("unknown hipError_t (4242)"), unknown.getMessage());
    }
}
