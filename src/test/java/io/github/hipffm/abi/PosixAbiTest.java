package io.github.hipffm.abi;

import io.github.hipffm.internal.Posix;
import io.github.hipffm.internal.Posix.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemoryLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link Posix#STAT}, the {@code struct stat} hip-ffm reads after {@code fstat}, against glibc's
 * {@code <sys/stat.h>} as the C compiler sees it: its size, every named field's offset and size, the
 * {@code S_IF*} type bits of {@link Stat}, and {@code major}/{@code minor} against glibc's macros.
 */
class PosixAbiTest {
    private static final List<String> FIELDS = List.of("st_dev", "st_ino", "st_nlink", "st_mode", "st_uid", "st_gid",
            "st_rdev", "st_size", "st_blksize", "st_blocks");
    /** A device number whose major and minor both use their high bits. */
    private static final String DEVICE = "makedev(0x12345u, 0x6789au)";

    @Test
    void structStatMatchesTheCHeader(@TempDir Path temp) throws Exception {
        Path header = temp.resolve("posix.h");
        Files.writeString(header, "#include <sys/stat.h>\n#include <sys/sysmacros.h>\n");
        CProbe probe = new CProbe(header).function("fstat");
        List<Fact> facts = new ArrayList<>();
        facts.add(fact("sizeof(struct stat)", Posix.STAT.byteSize()));
        for (String field : FIELDS) {
            MemoryLayout.PathElement e = MemoryLayout.PathElement.groupElement(field);
            facts.add(fact("offsetof(struct stat, " + field + ")", Posix.STAT.byteOffset(e)));
            facts.add(fact("sizeof(((struct stat *) 0)->" + field + ")", Posix.STAT.select(e).byteSize()));
        }
        facts.add(fact("S_IFMT", Stat.S_IFMT));
        facts.add(fact("S_IFSOCK", Stat.S_IFSOCK));
        facts.add(fact("S_IFLNK", Stat.S_IFLNK));
        facts.add(fact("S_IFREG", Stat.S_IFREG));
        facts.add(fact("S_IFBLK", Stat.S_IFBLK));
        facts.add(fact("S_IFDIR", Stat.S_IFDIR));
        facts.add(fact("S_IFCHR", Stat.S_IFCHR));
        facts.add(fact("S_IFIFO", Stat.S_IFIFO));
        facts.add(new Fact("struct stat", "the device number " + DEVICE, "(long long) " + DEVICE,
                Fact.Kind.INTEGRAL, null));
        facts.add(new Fact("struct stat", "major", "major(" + DEVICE + ")", Fact.Kind.INTEGRAL, null));
        facts.add(new Fact("struct stat", "minor", "minor(" + DEVICE + ")", Fact.Kind.INTEGRAL, null));
        facts.forEach(probe::fact);
        List<String> c = probe.run(temp.resolve("probe"), List.of());

        List<String> expected = new ArrayList<>();
        List<String> actual = new ArrayList<>();
        int n = facts.size() - 3;
        for (int i = 0; i < n; i++) {
            expected.add(facts.get(i).description() + " = " + c.get(i));
            actual.add(facts.get(i).description() + " = " + facts.get(i).javaValue());
        }
        Stat device = new Stat(0, 0, Stat.S_IFCHR, Long.parseLong(c.get(n)), 0);
        expected.add("major = " + c.get(n + 1) + ", minor = " + c.get(n + 2));
        actual.add("major = " + device.major() + ", minor = " + device.minor());
        assertEquals(String.join("\n", expected), String.join("\n", actual), "C (expected) against Java");
    }

    private static Fact fact(String c, long java) {
        return new Fact("struct stat", c, c, Fact.Kind.INTEGRAL, java);
    }
}
