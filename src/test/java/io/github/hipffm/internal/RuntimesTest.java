package io.github.hipffm.internal;

import io.github.hipffm.HipUnavailableException;
import io.github.hipffm.Platform;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RuntimesTest {

    @Test
    void searchOrderHonoursTheEnvironmentFirst() {
        List<Path> amd = LibraryLocator.searchDirs(Platform.AMD,
                Map.of("HIP_PATH", "/x/hip", "ROCM_PATH", "/x/rocm", "LD_LIBRARY_PATH", "/x/ld1::/x/ld2"));
        assertEquals(List.of(Path.of("/x/hip/lib"), Path.of("/x/rocm/lib"), Path.of("/opt/rocm/lib")), amd.subList(0, 3));
        assertTrue(amd.indexOf(Path.of("/x/ld1")) < amd.indexOf(Path.of("/x/ld2")));
        assertTrue(amd.indexOf(Path.of("/x/ld2")) < amd.indexOf(Path.of("/usr/lib/x86_64-linux-gnu")));

        List<Path> nv = LibraryLocator.searchDirs(Platform.NVIDIA, Map.of("CUDA_PATH", "/x/cuda"));
        assertEquals(List.of(Path.of("/x/cuda/lib64"), Path.of("/x/cuda/targets/x86_64-linux/lib")), nv.subList(0, 2));
        assertTrue(nv.contains(Path.of("/usr/local/cuda/lib64")));
        assertEquals(nv.size(), nv.stream().distinct().count(), "no duplicates");
    }

    @Test
    void libraryNamesPreferTheNewestSoname() {
        assertEquals(List.of("libamdhip64.so", "libamdhip64.so.7", "libamdhip64.so.6", "libamdhip64.so.5"),
                LibraryLocator.fileNames(Platform.AMD));
        assertEquals(List.of("libcudart.so.13", "libcudart.so.12"), LibraryLocator.fileNames(Platform.NVIDIA));
    }

    @Test
    void versionedDirectoriesCompareNumerically() {
        assertTrue(LibraryLocator.compareVersions("cuda-13.0", "cuda-12.9") > 0);
        assertTrue(LibraryLocator.compareVersions("rocm-6.10.0", "rocm-6.4.3") > 0);
        assertEquals(0, LibraryLocator.compareVersions("rocm-6.4.3", "rocm-6.4.3"));
    }

    @Test
    void aMissingExplicitLibrarySaysWhereItLooked(@TempDir Path dir) {
        Path missing = dir.resolve("libnothere.so");
        var e = assertThrows(HipUnavailableException.class, () -> Runtimes.select(null, missing.toString(), Map.of()));
        assertEquals(List.of(missing + ": no such file (from hipffm.library / HIPFFM_LIBRARY)"), e.attempts());
        assertTrue(e.getMessage().contains("HIP_PLATFORM=amd|nvidia"), e.getMessage());
    }

    @Test
    void aLibraryTheLinkerRejectsReportsTheLinkersReason(@TempDir Path dir) throws Exception {
        Path notElf = Files.writeString(dir.resolve("libamdhip64.so"), "not a shared object");
        var e = assertThrows(HipUnavailableException.class, () -> Runtimes.select("amd", notElf.toString(), Map.of()));
        assertEquals(1, e.attempts().size());
        String attempt = e.attempts().get(0);
        assertTrue(attempt.startsWith(notElf + ": "), attempt);
        assertTrue(attempt.contains("invalid ELF header") || attempt.contains("file too short"), attempt);
    }

    @Test
    void anUnknownPlatformNameIsRejectedBeforeLoading() {
        var e = assertThrows(IllegalArgumentException.class, () -> Runtimes.select("rocm", null, Map.of()));
        assertTrue(e.getMessage().contains("'rocm'"), e.getMessage());
    }
}
