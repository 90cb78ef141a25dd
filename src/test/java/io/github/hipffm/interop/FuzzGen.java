package io.github.hipffm.interop;

import io.github.hipffm.ChannelFormat;
import io.github.hipffm.fuzz.Gen;

import java.util.ArrayList;
import java.util.List;

/** Generators the fuzzing properties share: values near the edges that matter, and sizes. */
final class FuzzGen {
    private FuzzGen() {
    }

    /** Where a {@link Pick} is taken from: 0, the limit, half the limit, the extremes, anywhere up to the limit. */
    enum Anchor { ZERO, LIMIT, HALF, MIN, MAX, ANYWHERE }

    /**
     * A long relative to a limit known only when the case runs (a memory's size, a segment's size), so that the
     * edges ({@code -1}, {@code 0}, {@code limit}, {@code limit + 1}, overflow) come up often.
     *
     * @param anchor where from
     * @param delta added to it
     * @param fraction for {@link Anchor#ANYWHERE}: the point in {@code [0, limit]}, 0 to 1
     */
    record Pick(Anchor anchor, long delta, double fraction) {
        long of(long limit) {
            long base = switch (anchor) {
                case ZERO -> 0;
                case LIMIT -> limit;
                case HALF -> limit / 2;
                case MIN -> Long.MIN_VALUE;
                case MAX -> Long.MAX_VALUE;
                case ANYWHERE -> (long) (fraction * limit);
            };
            return base + delta;     // wraps at the extremes: overflowing values are wanted too
        }

        @Override
        public String toString() {
            return anchor + (delta < 0 ? "" : "+") + delta + (anchor == Anchor.ANYWHERE ? "@" + fraction : "");
        }
    }

    /** {@return picks, mostly inside {@code [0, limit]}, often at its edges} */
    static Gen<Pick> picks() {
        Gen<Anchor> anchors = Gen.frequency(Gen.w(3, Anchor.ZERO), Gen.w(3, Anchor.LIMIT),
                Gen.w(2, Anchor.HALF), Gen.w(1, Anchor.MIN), Gen.w(1, Anchor.MAX), Gen.w(6, Anchor.ANYWHERE));
        Gen<Long> deltas = Gen.frequencyOf(Gen.w(6, Gen.just(0L)),
                Gen.w(4, Gen.longs(-2, 2)), Gen.w(1, Gen.longs(-100, 100)));
        return Gen.combine(anchors, deltas, Gen.doubles(0, 1, 3)).as(Pick::new);
    }

    /** {@return sizes in bytes of small memory: 1, around pages, anything up to {@code max}} */
    static Gen<Long> sizes(long max) {
        return Gen.frequencyOf(Gen.w(1, Gen.of(1L, 2L, 3L, 4095L, 4096L, 4097L)),
                Gen.w(3, Gen.longs(1, max)));
    }

    /** Every valid {@link ChannelFormat}: 1 to 4 channels of 8, 16 or 32 bits, each kind (float: not 8). */
    static final List<ChannelFormat> FORMATS;

    static {
        List<ChannelFormat> all = new ArrayList<>();
        for (ChannelFormat.Kind kind : ChannelFormat.Kind.values()) {
            for (int bits : new int[] {8, 16, 32}) {
                if (kind == ChannelFormat.Kind.FLOAT && bits == 8) {
                    continue;
                }
                for (int channels = 1; channels <= 4; channels++) {
                    all.add(new ChannelFormat(bits, channels > 1 ? bits : 0, channels > 2 ? bits : 0,
                            channels > 3 ? bits : 0, kind));
                }
            }
        }
        FORMATS = List.copyOf(all);
    }

    /** {@return the bits of a channel: valid ones mostly, and the invalid ones a constructor must refuse} */
    static Gen<Integer> channelBits() {
        return Gen.frequencyOf(Gen.w(6, Gen.of(0, 8, 16, 32)),
                Gen.w(1, Gen.of(-8, 1, 4, 24, 64, Integer.MIN_VALUE, Integer.MAX_VALUE)));
    }
}
