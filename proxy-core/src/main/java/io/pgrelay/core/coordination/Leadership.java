package io.pgrelay.core.coordination;

/**
 * Who runs the cluster operations now, as one instance sees it. Only the leader runs automatic
 * failover, switchover and node changes; the others carry an operator's request to it.
 *
 * @param coordinated whether instances coordinate at all (standalone: this one always leads)
 * @param self        whether this instance is the leader: it holds the leader key and its lease
 *                    was renewed recently enough that no other instance can hold it
 * @param leaderId    the id in the leader key; null while there is none (an election is under way)
 * @param leader      the leader's registration (its admin address), null when unknown
 */
public record Leadership(boolean coordinated, boolean self, String leaderId, ProxyMember leader) {

    /** An instance alone: it leads. */
    public static Leadership alone(ProxyMember self) {
        return new Leadership(false, true, self == null ? null : self.id(), self);
    }

    public boolean isLeader(ProxyMember member) {
        return member.id().equals(leaderId);
    }
}
