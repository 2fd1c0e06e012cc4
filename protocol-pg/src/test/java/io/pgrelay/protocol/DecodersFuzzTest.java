package io.pgrelay.protocol;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.pgrelay.protocol.auth.ScramFuzzTest;
import io.pgrelay.protocol.codec.FrameDecoderFuzzTest;
import io.pgrelay.protocol.codec.FrameScannerFuzzTest;
import io.pgrelay.protocol.codec.StartupPacketDecoderFuzzTest;
import io.pgrelay.protocol.message.MessageDecodeFuzzTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * All of protocol-pg's fuzz targets behind one: byte 0 of the input picks the target, the rest is
 * that target's input. Jazzer fuzzes only one {@code @FuzzTest} per JVM, and starting its agent
 * costs more than a short fuzzing run, so the bounded run in {@code mvn verify} fuzzes this one
 * target (see docs/fuzzing.md); coverage guidance spreads the time over the targets by itself.
 * Its seeds are every target's seeds with their selector byte; in regression mode they run here
 * too, which is cheap.
 */
class DecodersFuzzTest {
    private record Target(Class<?> testClass, String method, Consumer<byte[]> run) {
    }

    private static final List<Target> TARGETS = List.of(
            new Target(StartupPacketDecoderFuzzTest.class, "startupPackets", StartupPacketDecoderFuzzTest::run),
            new Target(FrameDecoderFuzzTest.class, "frames", FrameDecoderFuzzTest::run),
            new Target(FrameScannerFuzzTest.class, "scan", FrameScannerFuzzTest::run),
            new Target(MessageDecodeFuzzTest.class, "frontend", MessageDecodeFuzzTest::runFrontend),
            new Target(MessageDecodeFuzzTest.class, "backend", MessageDecodeFuzzTest::runBackend),
            new Target(ScramFuzzTest.class, "server", ScramFuzzTest::runServer),
            new Target(ScramFuzzTest.class, "client", ScramFuzzTest::runClient));

    @MethodSource("seeds")
    @FuzzTest
    void anyDecoder(byte[] input) {
        if (input.length == 0) {
            return;
        }
        byte[] rest = new byte[input.length - 1];
        System.arraycopy(input, 1, rest, 0, rest.length);
        TARGETS.get((input[0] & 0xff) % TARGETS.size()).run().accept(rest);
    }

    /** Every target's committed inputs, each behind the byte that selects the target. */
    static Stream<Arguments> seeds() {
        List<Arguments> seeds = new ArrayList<>();
        for (int selector = 0; selector < TARGETS.size(); selector++) {
            for (byte[] input : inputs(TARGETS.get(selector))) {
                byte[] seed = new byte[input.length + 1];
                seed[0] = (byte) selector;
                System.arraycopy(input, 0, seed, 1, input.length);
                seeds.add(Arguments.of((Object) seed));
            }
        }
        return seeds.stream();
    }

    /** The files in a target's Jazzer inputs directory, as the test classpath holds it. */
    static List<byte[]> inputs(Target target) {
        String directory = target.testClass().getSimpleName() + "Inputs/" + target.method();
        URL url = target.testClass().getResource(directory);
        if (url == null) {
            throw new IllegalStateException("no seed corpus at " + directory + " next to " + target.testClass());
        }
        try (Stream<Path> files = Files.list(Path.of(url.toURI()))) {
            List<byte[]> inputs = new ArrayList<>();
            for (Path file : files.sorted().toList()) {
                inputs.add(Files.readAllBytes(file));
            }
            return inputs;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
