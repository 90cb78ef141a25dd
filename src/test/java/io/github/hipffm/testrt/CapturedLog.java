package io.github.hipffm.testrt;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.lang.reflect.InvocationTargetException;
import java.nio.charset.StandardCharsets;

/**
 * Captures what hip-ffm logs (its {@code System.Logger} {@code io.github.hipffm}, which the JDK backs with
 * java.util.logging) while open, instead of letting it reach the console: a test that makes hip-ffm log asserts
 * on the text, and a passing run prints nothing.
 *
 * <p>The test classes are compiled into the module {@code io.github.hipffm}, which does not read
 * {@code java.logging}, so java.util.logging is reached through core reflection (which needs no read edge): a
 * {@code StreamHandler} with the JDK's {@code SimpleFormatter} on the logger, whose console output (its parent
 * handlers) is off until {@link #close()}.
 *
 * {@snippet :
 * try (CapturedLog log = CapturedLog.of("io.github.hipffm")) {
 *     arena.close();
 *     assertTrue(log.text().contains("when its arena closed failed"));
 * }
 * }
 */
public final class CapturedLog implements AutoCloseable {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    /** Held for as long as the capture lasts: java.util.logging keeps loggers only weakly. */
    private final Object logger;
    private final Object handler;
    private final boolean useParentHandlers;

    private CapturedLog(String name) throws ReflectiveOperationException {
        Class<?> loggerClass = Class.forName("java.util.logging.Logger");
        Class<?> handlerClass = Class.forName("java.util.logging.Handler");
        Class<?> formatterClass = Class.forName("java.util.logging.Formatter");
        logger = loggerClass.getMethod("getLogger", String.class).invoke(null, name);
        Object formatter = Class.forName("java.util.logging.SimpleFormatter").getConstructor().newInstance();
        handler = Class.forName("java.util.logging.StreamHandler").getConstructor(OutputStream.class, formatterClass)
                .newInstance(bytes, formatter);
        useParentHandlers = (boolean) loggerClass.getMethod("getUseParentHandlers").invoke(logger);
        loggerClass.getMethod("addHandler", handlerClass).invoke(logger, handler);
        loggerClass.getMethod("setUseParentHandlers", boolean.class).invoke(logger, false);   // not to the console
    }

    /**
     * {@return a capture of the logger {@code name} and its children, until closed}
     * @param name the logger, e.g. {@code io.github.hipffm}
     */
    public static CapturedLog of(String name) {
        try {
            return new CapturedLog(name);
        } catch (InvocationTargetException e) {
            throw new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("java.util.logging is not available: " + e, e);
        }
    }

    /** {@return what was logged so far, formatted by {@code SimpleFormatter}: level, message, stack trace} */
    public String text() {
        call("flush");
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** Gives the logger back its console output. */
    @Override
    public void close() {
        call("flush");
        try {
            Class<?> loggerClass = logger.getClass();
            loggerClass.getMethod("removeHandler", Class.forName("java.util.logging.Handler")).invoke(logger, handler);
            loggerClass.getMethod("setUseParentHandlers", boolean.class).invoke(logger, useParentHandlers);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private void call(String method) {
        try {
            handler.getClass().getMethod(method).invoke(handler);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
