import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The cloud exhibition's sections (云展厅): 资料, 产品, 案例. */
export const CLOUD_SECTIONS = ['materials', 'products', 'cases'] as const;
export type CloudSection = (typeof CLOUD_SECTIONS)[number];

/**
 * A content-centre material shown in an event's cloud exhibition (`/e/<event>/cloud`), in one
 * section at one position. The key (event, material) puts a material in one section of an event
 * once; an operator replaces an event's whole list at a time (server/modules/exhibitions/event-cloud.service.ts).
 */
@Entity('event_cloud_items')
export class EventCloudItem {
  @PrimaryColumn({ type: 'int' })
  eventId: number;

  @PrimaryColumn({ type: 'int' })
  materialId: number;

  @Column({ type: 'varchar', length: 16 })
  section: CloudSection;

  /** The order within the section, from 0. */
  @Column({ type: 'int' })
  position: number;
}
