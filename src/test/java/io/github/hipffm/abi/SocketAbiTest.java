package io.github.hipffm.abi;

import io.github.hipffm.internal.Sockets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link Sockets}, the hand-declared layouts and constants of {@code FdChannel}, against glibc's
 * {@code <sys/socket.h>}, {@code <sys/un.h>} and {@code <poll.h>} as the C compiler sees them: the size of
 * {@code struct sockaddr_un}, {@code msghdr}, {@code iovec}, {@code cmsghdr}, {@code ucred} and {@code pollfd},
 * every named field's offset and size, {@code CMSG_SPACE}/{@code CMSG_LEN}/{@code CMSG_DATA} for 1 to 253 fds, and
 * every constant.
 */
class SocketAbiTest {
    private static final Map<String, StructLayout> STRUCTS = Map.of(
            "struct sockaddr_un", Sockets.SOCKADDR_UN, "struct msghdr", Sockets.MSGHDR, "struct iovec", Sockets.IOVEC,
            "struct cmsghdr", Sockets.CMSGHDR, "struct ucred", Sockets.UCRED, "struct pollfd", Sockets.POLLFD);

    @Test
    void layoutsAndConstantsMatchTheCHeaders(@TempDir Path temp) throws Exception {
        Path header = temp.resolve("sockets.h");
        Files.writeString(header, "#include <sys/socket.h>\n#include <sys/un.h>\n"
                + "#include <poll.h>\n#include <errno.h>\n#include <sys/stat.h>\n#include <unistd.h>\n");
        CProbe probe = new CProbe(header);
        for (String f : List.of("socket", "bind", "listen", "accept4", "connect", "sendmsg", "recvmsg", "poll",
                "getsockopt", "fchmod", "getuid", "close")) {
            probe.function(f);
        }
        List<Fact> facts = new ArrayList<>();
        STRUCTS.forEach((c, layout) -> {
            facts.add(fact("sizeof(" + c + ")", layout.byteSize()));
            for (MemoryLayout member : layout.memberLayouts()) {
                String name = member.name().orElse(null);
                if (name == null) {
                    continue;      // padding
                }
                MemoryLayout.PathElement e = MemoryLayout.PathElement.groupElement(name);
                facts.add(fact("offsetof(" + c + ", " + name + ")", layout.byteOffset(e)));
                facts.add(fact("sizeof(((" + c + " *) 0)->" + name + ")", member.byteSize()));
            }
        });
        for (int fds : new int[] {1, 2, 3, 4, 64, 253}) {
            facts.add(fact("CMSG_SPACE(" + fds + " * sizeof(int))", Sockets.cmsgSpace(fds)));
            facts.add(fact("CMSG_LEN(" + fds + " * sizeof(int))", Sockets.cmsgLen(fds)));
        }
        facts.add(fact("(long) ((char *) CMSG_DATA((struct cmsghdr *) 64) - (char *) 64)", Sockets.CMSG_DATA));
        Object[][] constants = {
            {"AF_UNIX", Sockets.AF_UNIX}, {"SOCK_SEQPACKET", Sockets.SOCK_SEQPACKET},
            {"SOCK_NONBLOCK", Sockets.SOCK_NONBLOCK}, {"SOCK_CLOEXEC", Sockets.SOCK_CLOEXEC},
            {"SOL_SOCKET", Sockets.SOL_SOCKET}, {"SCM_RIGHTS", Sockets.SCM_RIGHTS}, {"SO_PEERCRED", Sockets.SO_PEERCRED},
            {"MSG_CTRUNC", Sockets.MSG_CTRUNC}, {"MSG_TRUNC", Sockets.MSG_TRUNC}, {"MSG_DONTWAIT", Sockets.MSG_DONTWAIT},
            {"MSG_NOSIGNAL", Sockets.MSG_NOSIGNAL}, {"MSG_CMSG_CLOEXEC", Sockets.MSG_CMSG_CLOEXEC},
            {"POLLIN", (int) Sockets.POLLIN}, {"POLLOUT", (int) Sockets.POLLOUT}, {"POLLERR", (int) Sockets.POLLERR},
            {"POLLHUP", (int) Sockets.POLLHUP}, {"EINTR", Sockets.EINTR}, {"ENOENT", Sockets.ENOENT},
            {"EAGAIN", Sockets.EAGAIN}, {"EPIPE", Sockets.EPIPE}, {"EADDRINUSE", Sockets.EADDRINUSE},
            {"ECONNRESET", Sockets.ECONNRESET}, {"ECONNREFUSED", Sockets.ECONNREFUSED},
            {"sizeof(((struct sockaddr_un *) 0)->sun_path)", Sockets.SUN_PATH_SIZE},
        };
        for (Object[] c : constants) {
            facts.add(fact((String) c[0], ((Number) c[1]).longValue()));
        }
        facts.forEach(probe::fact);
        List<String> c = probe.run(temp.resolve("probe"), List.of("-D_GNU_SOURCE"));   // accept4, struct ucred

        List<String> expected = new ArrayList<>();
        List<String> actual = new ArrayList<>();
        for (int i = 0; i < facts.size(); i++) {
            expected.add(facts.get(i).description() + " = " + c.get(i));
            actual.add(facts.get(i).description() + " = " + facts.get(i).javaValue());
        }
        assertEquals(String.join("\n", expected), String.join("\n", actual), "C (expected) against Java");
    }

    private static Fact fact(String c, long java) {
        return new Fact("sockets", c, c, Fact.Kind.INTEGRAL, java);
    }
}
