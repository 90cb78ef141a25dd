// hip-ffm's jshell startup (scripts/jshell): the API, FFM, and a one-line hint.
import io.github.hipffm.*;
import io.github.hipffm.Stream;
import java.lang.foreign.*;
import java.util.*;
System.out.println("hip-ffm ready: try Hip.platform(), Hip.devices(), or /open "
        + System.getProperty("hipffm.examples", "examples") + "/device-info.jsh");
