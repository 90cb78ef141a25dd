package io.github.hipffm.internal;

import io.github.hipffm.ChannelFormat;
import io.github.hipffm.DeviceAttribute;
import io.github.hipffm.TextureDescriptor;
import io.github.hipffm.ExternalMemoryHandleType;
import io.github.hipffm.ExternalSemaphoreHandleType;
import io.github.hipffm.GraphicsResource;
import io.github.hipffm.HipError;
import io.github.hipffm.Platform;
import io.github.hipffm.bindings.cuda.CudaRuntime;
import io.github.hipffm.bindings.cudadrv.CudaDriver;
import io.github.hipffm.bindings.hip.Hip;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every row of {@link Codes} against both generated bindings, by name: for each Java constant, the generated HIP
 * constant and the generated CUDA constant whose names end in the Java constant's name (under the enum's C
 * prefix) must have the values of the row. The pairing is thus checked from the bindings' names, not from the
 * table's own construction. Also every enum is complete, and the CUDA error table maps both ways. No runtime.
 */
class CodesTest {
    /** The C name prefix of each Java enum's constants, {@code {hip, cuda}}. */
    private static final Map<Class<?>, String[]> PREFIXES = Map.ofEntries(
            Map.entry(ExternalMemoryHandleType.class,
                    new String[] {"hipExternalMemoryHandleType", "cudaExternalMemoryHandleType"}),
            Map.entry(ExternalSemaphoreHandleType.class,
                    new String[] {"hipExternalSemaphoreHandleType", "cudaExternalSemaphoreHandleType"}),
            Map.entry(ChannelFormat.Kind.class, new String[] {"hipChannelFormatKind", "cudaChannelFormatKind"}),
            Map.entry(GraphicsResource.Flag.class, new String[] {"hipGraphicsRegisterFlags", "cudaGraphicsRegisterFlags"}),
            Map.entry(DeviceAttribute.class, new String[] {"hipDeviceAttribute", "cudaDevAttr"}),
            Map.entry(Codes.NativeFlag.class, new String[] {"hip", "cuda"}),
            Map.entry(Codes.Constant.class, new String[] {"hip", "cuda"}),
            Map.entry(TextureDescriptor.AddressMode.class, new String[] {"hipAddressMode", "cudaAddressMode"}),
            Map.entry(TextureDescriptor.FilterMode.class, new String[] {"hipFilterMode", "cudaFilterMode"}),
            Map.entry(TextureDescriptor.ReadMode.class, new String[] {"hipReadMode", "cudaReadMode"}),
            Map.entry(Codes.VmmConstant.class, new String[] {"hipMem", "CU_MEM_"}));

    private static final Map<String, Integer> HIP = constants(Hip.class);
    private static final Map<String, Integer> CUDA = constants(CudaRuntime.class);
    /** The driver API's constants (virtual memory management). */
    private static final Map<String, Integer> CUDA_DRIVER = constants(CudaDriver.class);

    @Test
    void everyRowMatchesBothBindingsByName() {
        Map<Enum<?>, int[]> table = Codes.table();
        assertFalse(table.isEmpty());
        List<String> wrong = new ArrayList<>();
        table.forEach((key, row) -> {
            String[] prefix = PREFIXES.get(key.getDeclaringClass());
            assertTrue(prefix != null, "no prefix for " + key.getDeclaringClass());
            check(wrong, key, HIP, prefix[0], row[0]);
            check(wrong, key, key instanceof Codes.VmmConstant ? CUDA_DRIVER : CUDA, prefix[1], row[1]);
            assertEquals(row[0], Codes.of(Platform.AMD, key));
            assertEquals(row[1], Codes.of(Platform.NVIDIA, key));
        });
        assertTrue(wrong.isEmpty(), String.join("\n", wrong));
    }

    /** The shortest generated name under {@code prefix} that ends in the key's name must have {@code value}. */
    private static void check(List<String> wrong, Enum<?> key, Map<String, Integer> constants, String prefix, int value) {
        String squashed = key.name().replace("_", "").toLowerCase(Locale.ROOT);
        String lowerPrefix = prefix.replace("_", "").toLowerCase(Locale.ROOT);
        String name = constants.keySet().stream()
                .filter(n -> n.replace("_", "").toLowerCase(Locale.ROOT).startsWith(lowerPrefix)
                        && n.replace("_", "").toLowerCase(Locale.ROOT).endsWith(squashed))
                .min(Comparator.comparingInt(String::length)).orElse(null);
        if (name == null) {
            wrong.add(key.getDeclaringClass().getSimpleName() + "." + key + ": no " + prefix + "* constant ends in "
                    + squashed);
        } else if (constants.get(name) != value) {
            wrong.add(key.getDeclaringClass().getSimpleName() + "." + key + ": " + name + " = " + constants.get(name)
                    + ", table says " + value);
        }
    }

    @Test
    void everyConstantOfTheMappedEnumsHasARow() {
        Map<Enum<?>, int[]> table = Codes.table();
        Stream.of(ExternalMemoryHandleType.values(), ExternalSemaphoreHandleType.values(), ChannelFormat.Kind.values(),
                GraphicsResource.Flag.values(), DeviceAttribute.values(), Codes.NativeFlag.values(),
                Codes.Constant.values(), TextureDescriptor.AddressMode.values(), TextureDescriptor.FilterMode.values(),
                TextureDescriptor.ReadMode.values(), Codes.VmmConstant.values()).flatMap(Arrays::stream)
                .forEach(e -> assertTrue(table.containsKey(e), e.getDeclaringClass().getSimpleName() + "." + e));
    }

    @ParameterizedTest
    @EnumSource(DeviceAttribute.class)
    void deviceAttributesCarryTheirHipNameAndValue(DeviceAttribute attribute) {
        assertEquals(HIP.get(attribute.hipName()), attribute.hipValue(), attribute.hipName());
    }

    @Test
    void attributesUseEachPlatformsOwnNumbering() {
        // hipDeviceAttribute_t and cudaDeviceAttr are numbered differently; the table carries both.
        assertNotEquals(Codes.hip(DeviceAttribute.PCI_BUS_ID), Codes.cuda(DeviceAttribute.PCI_BUS_ID));
        assertEquals(CudaRuntime.cudaDevAttrPciBusId(), Codes.of(Platform.NVIDIA, DeviceAttribute.PCI_BUS_ID));
    }

    @Test
    void arrayAndRegisterFlagsTranslateBitByBit() {
        int all = 0;
        int allCuda = 0;
        for (Codes.NativeFlag f : Codes.NativeFlag.ARRAY) {
            all |= Codes.hip(f);
            allCuda |= Codes.cuda(f);
            assertEquals(Codes.cuda(f), Codes.arrayFlags(Platform.NVIDIA, Codes.hip(f)), f.name());
        }
        assertEquals(all, Codes.arrayFlags(Platform.AMD, all));
        assertEquals(allCuda, Codes.arrayFlags(Platform.NVIDIA, all));
        assertEquals(CudaRuntime.cudaGraphicsRegisterFlagsSurfaceLoadStore()
                        | CudaRuntime.cudaGraphicsRegisterFlagsTextureGather(),
                Codes.bits(Platform.NVIDIA, EnumSet.of(GraphicsResource.Flag.SURFACE_LOAD_STORE,
                        GraphicsResource.Flag.TEXTURE_GATHER)));
    }

    @Test
    void cudaErrorTableUsesRealCudaCodesAndMapsBack() {
        Map<Integer, String> cudaErrorNames = new HashMap<>();
        CUDA.forEach((name, value) -> {
            if (name.startsWith("cudaError") || name.equals("cudaSuccess")) {
                cudaErrorNames.putIfAbsent(value, name);
            }
        });
        for (HipError e : HipError.values()) {
            int cuda = CudaErrors.toCuda(e.code());
            if (cuda >= 0) {
                assertTrue(cudaErrorNames.containsKey(cuda), e + " maps to " + cuda + ", which is no cudaError_t");
                assertEquals(e, CudaErrors.toHip(cuda), e + " -> " + cudaErrorNames.get(cuda) + " -> back");
            }
        }
        assertEquals(HipError.UNKNOWN, CudaErrors.toHip(CudaRuntime.cudaErrorJitCompilerNotFound()));
        assertEquals(HipError.OUT_OF_MEMORY, CudaErrors.toHip(CudaRuntime.cudaErrorMemoryAllocation()));
        assertEquals(HipError.INVALID_HANDLE, CudaErrors.toHip(CudaRuntime.cudaErrorInvalidResourceHandle()));
    }

    /**
     * {@return every generated constant of a bindings class and its superclasses} jextract makes each one a
     * {@code private static final int} field and a {@code public static int name()} method of the same name;
     * only those pairs count (a no-argument function such as {@code hipDeviceSynchronize()} is no constant).
     */
    private static Map<String, Integer> constants(Class<?> bindings) {
        Map<String, Integer> all = new HashMap<>();
        for (Class<?> c = bindings; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers()) && f.getType() == int.class) {
                    try {
                        Method m = c.getDeclaredMethod(f.getName());
                        if (Modifier.isPublic(m.getModifiers()) && m.getReturnType() == int.class) {
                            all.putIfAbsent(f.getName(), (Integer) m.invoke(null));
                        }
                    } catch (NoSuchMethodException e) {
                        // a field without its accessor: not a constant
                    } catch (ReflectiveOperationException e) {
                        fail(f.getName(), e);
                    }
                }
            }
        }
        return all;
    }
}
