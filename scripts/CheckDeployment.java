import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * Checks a deployment of hip-ffm in a Maven repository directory against what Maven Central requires
 * (https://central.sonatype.org/publish/requirements/), minus the GPG signatures (made only by the release profile),
 * plus what hip-ffm promises about its artifacts. Run by scripts/check-artifact:
 *
 * <pre>java scripts/CheckDeployment.java REPO GROUP_ID ARTIFACT_ID VERSION</pre>
 *
 * Prints one line per check; exits 1 when any fails. ARTIFACT_ID hip-ffm checks the core; hip-ffm-vulkan the Vulkan
 * companion (vulkan/): the same Central requirements, its own classes and pages, and as dependencies outside test
 * scope only hip-ffm of the same version and LWJGL.
 */
public class CheckDeployment {
    private static final List<String> failures = new ArrayList<>();
    private static int passed;
    /** Checking the Vulkan companion rather than the core. */
    private static boolean vulkan;
    private static String hipffmVersion;

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: java CheckDeployment.java REPO GROUP_ID ARTIFACT_ID VERSION");
            System.exit(64);
        }
        String artifactId = args[2], version = args[3];
        vulkan = artifactId.equals("hip-ffm-vulkan");
        hipffmVersion = version;
        Path dir = Path.of(args[0], args[1].replace('.', '/'), artifactId, version);
        check(Files.isDirectory(dir), "deployed directory " + dir);
        if (!Files.isDirectory(dir)) {
            finish();
        }
        // A snapshot is deployed under a unique version (0.1.0-20261201.004000-1): take the newest pom's.
        String prefix = artifactId + "-" + version;
        if (version.endsWith("-SNAPSHOT")) {
            String base = version.substring(0, version.length() - "-SNAPSHOT".length());
            try (Stream<Path> files = Files.list(dir)) {
                prefix = files.map(p -> p.getFileName().toString())
                        .filter(n -> n.startsWith(artifactId + "-" + base + "-") && n.endsWith(".pom"))
                        .map(n -> n.substring(0, n.length() - ".pom".length()))
                        .sorted().reduce((a, b) -> b).orElse(prefix);
            }
        }
        System.out.println("check-artifact: " + dir.resolve(prefix) + ".*");

        Path pom = dir.resolve(prefix + ".pom");
        Path jar = dir.resolve(prefix + ".jar");
        Path sources = dir.resolve(prefix + "-sources.jar");
        Path javadoc = dir.resolve(prefix + "-javadoc.jar");
        for (Path p : List.of(pom, jar, sources, javadoc)) {
            boolean present = Files.isRegularFile(p) && Files.size(p) > 0;
            check(present, p.getFileName() + " present");
            if (present) {
                checksum(p, "MD5", ".md5");
                checksum(p, "SHA-1", ".sha1");
            }
        }
        if (Files.isRegularFile(pom)) {
            checkPom(pom);
        }
        if (Files.isRegularFile(jar)) {
            try (JarFile j = new JarFile(jar.toFile())) {
                check(j.getEntry("module-info.class") != null, "jar: module-info.class");
                String main = vulkan ? "io/github/hipffm/vulkan/VulkanDevice.class" : "io/github/hipffm/Hip.class";
                check(j.getEntry(main) != null, "jar: " + main);
                check(j.getEntry("META-INF/LICENSE") != null && j.getEntry("META-INF/NOTICE") != null,
                        "jar: META-INF/LICENSE and META-INF/NOTICE");
                if (!vulkan) { // the companion is no executable jar
                    String access = j.getManifest() == null ? null
                            : j.getManifest().getMainAttributes().getValue("Enable-Native-Access");
                    check("ALL-UNNAMED".equals(access), "jar: manifest Enable-Native-Access: ALL-UNNAMED (was " + access + ")");
                }
            }
        }
        if (Files.isRegularFile(sources)) {
            try (JarFile j = new JarFile(sources.toFile())) {
                String main = vulkan ? "io/github/hipffm/vulkan/VulkanDevice.java" : "io/github/hipffm/Hip.java";
                check(j.getEntry("module-info.java") != null && j.getEntry(main) != null,
                        "sources jar: module-info.java and " + main);
                if (!vulkan) {
                    check(j.stream().anyMatch(e -> e.getName().startsWith("io/github/hipffm/bindings/hip/")),
                            "sources jar: the generated bindings' sources");
                }
            }
        }
        if (Files.isRegularFile(javadoc)) {
            try (JarFile j = new JarFile(javadoc.toFile())) {
                String hip = vulkan ? "io.github.hipffm.vulkan/io/github/hipffm/vulkan/VulkanDevice.html"
                        : "io.github.hipffm/io/github/hipffm/Hip.html";
                check(j.getEntry("index.html") != null && j.getEntry(hip) != null, "javadoc jar: index.html and " + hip);
                long generated = j.stream().filter(e -> e.getName().contains("/bindings/")
                        || e.getName().contains("/internal/") || e.getName().contains("/cli/")).count();
                check(generated == 0, "javadoc jar: no pages of bindings, internal or cli (found " + generated + ")");
                String page = j.getEntry(hip) == null ? "" : new String(j.getInputStream(j.getEntry(hip)).readAllBytes());
                check(page.contains("Apache License, Version 2.0") && !page.contains("All rights reserved"),
                        "javadoc jar: footer names the Apache License, not \"All rights reserved\"");
            }
        }
        finish();
    }

    private static void checkPom(Path pom) throws Exception {
        var factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(false);
        Document doc = factory.newDocumentBuilder().parse(pom.toFile());
        Element project = doc.getDocumentElement();
        for (String name : List.of("modelVersion", "groupId", "artifactId", "version", "name", "description", "url")) {
            check(!text(project, name).isEmpty(), "pom: <" + name + "> " + text(project, name));
        }
        Element license = first(first(project, "licenses"), "license");
        check(!text(license, "name").isEmpty() && !text(license, "url").isEmpty(),
                "pom: <licenses><license> with <name> and <url>: " + text(license, "name") + ", " + text(license, "url"));
        check("Apache-2.0".equals(text(license, "name")), "pom: the license is Apache-2.0");
        Element developer = first(first(project, "developers"), "developer");
        check(!text(developer, "name").isEmpty(), "pom: <developers><developer><name> " + text(developer, "name"));
        Element scm = first(project, "scm");
        for (String name : List.of("url", "connection", "developerConnection")) {
            check(!text(scm, name).isEmpty(), "pom: <scm><" + name + "> " + text(scm, name));
        }
        Element issues = first(project, "issueManagement");
        check(!text(issues, "url").isEmpty(), "pom: <issueManagement><url> " + text(issues, "url"));
        // NOTICE says the published artifact has no dependencies: everything in the pom is test scope.
        Element dependencies = first(project, "dependencies");
        int runtime = 0;
        List<String> others = new ArrayList<>();
        boolean core = false;
        for (Node n = dependencies == null ? null : dependencies.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element dep && !"test".equals(text(dep, "scope"))) {
                runtime++;
                String ga = text(dep, "groupId") + ":" + text(dep, "artifactId");
                if (ga.equals("io.github.hipffm:hip-ffm")) {
                    core = true;
                    String v = text(dep, "version");
                    check(v.equals(hipffmVersion) || v.equals("${project.version}"),
                            "pom: hip-ffm dependency of the same version (" + v + ")");
                } else if (!text(dep, "groupId").equals("org.lwjgl")) {
                    others.add(ga);
                }
            }
        }
        if (vulkan) {
            check(core, "pom: depends on io.github.hipffm:hip-ffm");
            check(others.isEmpty(), "pom: no dependency outside test scope but hip-ffm and LWJGL (found " + others + ")");
        } else {
            check(runtime == 0, "pom: no dependency outside test scope (found " + runtime + ")");
        }
    }

    private static void checksum(Path file, String algorithm, String suffix) throws Exception {
        Path sum = file.resolveSibling(file.getFileName() + suffix);
        if (!Files.isRegularFile(sum)) {
            check(false, file.getFileName() + suffix + " present");
            return;
        }
        MessageDigest md = MessageDigest.getInstance(algorithm);
        try (InputStream in = Files.newInputStream(file)) {
            md.update(in.readAllBytes());
        }
        String expected = HexFormat.of().formatHex(md.digest());
        String recorded = Files.readString(sum).trim().split("\\s+")[0];
        check(expected.equalsIgnoreCase(recorded), file.getFileName() + suffix + " matches the file");
    }

    private static Element first(Element parent, String name) {
        if (parent == null) {
            return null;
        }
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                return e;
            }
        }
        return null;
    }

    private static String text(Element parent, String name) {
        Element e = first(parent, name);
        return e == null ? "" : e.getTextContent().trim();
    }

    private static void check(boolean ok, String what) {
        if (ok) {
            passed++;
        } else {
            failures.add(what);
            System.out.println("check-artifact: FAILED: " + what);
        }
    }

    private static void finish() throws IOException {
        System.out.println("check-artifact: " + passed + " checks passed, " + failures.size() + " failed");
        System.exit(failures.isEmpty() ? 0 : 1);
    }
}
