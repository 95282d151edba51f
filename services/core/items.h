/*
 * Items and what several services change about them (SPEC §4.2–§4.5): the
 * item registry (the same VIN, IMEI or (brand, serial_no) is the same item
 * across platforms), item status and brands, the item history, and the
 * suspension of listings (a stolen item; a revoked wipe certificate). The
 * listing service owns the calls; the wipe service (SubmitWipe registers
 * an unknown device, RevokeCertificate suspends listings) and the invoice
 * service (a SCRAP_VEHICLE line scraps a VIN) use the same functions, so
 * the rules live once.
 *
 * Every function runs inside the caller's write transaction (write.h) and
 * appends the events and history rows of what it changes. Lock order: the
 * item row (items_lock) before any of its listings.
 */
#ifndef REG_CORE_ITEMS_H
#define REG_CORE_ITEMS_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/pii.h"
#include "registry/v1/listing.pb-c.h"
#include "services/base/arena.h"
#include "services/base/err.h"
#include "storage/pg/pg.h"

/* Bits of listings.suspended_for: why a SUSPENDED listing is suspended. */
#define ITEMS_SUSPENDED_STOLEN 1
#define ITEMS_SUSPENDED_CERTIFICATE 2

/* What one transaction knows about a locked item. */
typedef struct items_row {
  char id[48];
  int kind;                 /* registry.v1.ItemKind */
  int status;               /* registry.v1.ItemStatus */
  uint32_t brands;          /* bit n: registry.v1.Brand n */
  int64_t highest_mileage_km;
  int64_t storage_bytes;    /* electronics */
  int vehicle_type, use_nature;
  char first_registration_date[11]; /* vehicles, "" if none */
  int owner_kind;           /* 0: no recorded owner */
  uint8_t owner_ref[32];
  size_t owner_ref_len;
  int32_t transfer_count;
} items_row;

/* The personal-data keyring with which the functions that take none
 * (items_register, items_odometer, items_clear_brand) open an item's owner
 * for the record of the item events they append (owner masked, as
 * items_event). Set once at start-up, before any worker runs (registryd
 * serve, after keystore_load_pii); the ring must outlive every call. Not
 * set: those functions fail with REG_EIO on an item whose owner is a
 * natural person (and log why). */
void items_init(const pii_keyring *ring);

/* Registers an item, or finds the existing one by VIN, IMEI or (brand,
 * serial_no) — race-free (INSERT … ON CONFLICT). `item` holds exactly one
 * of vehicle / electronic / goods, already validated and normalized (the
 * listing rules). A new item gets ITEM_REGISTERED + a REGISTERED history
 * row; an existing one keeps its id and records the observation (history
 * REGISTERED with detail "observed"). A vehicle's mileage_km > 0 is an
 * odometer reading (items_odometer). *created, and *rolled_back set when
 * the reading branded the item. The row comes back locked. */
int items_register(pg_conn *pg, const char *org_id, const Registry__V1__RegisterItemRequest *item,
                   items_row *out, int *created, int *rolled_back) REG_MUST_CHECK;

/* SELECT … FOR NO KEY UPDATE of the item (exclusive among writers; the
 * foreign keys that name it need not wait): REG_ENOTFOUND when unknown. */
int items_lock(pg_conn *pg, const char *item_id, items_row *out) REG_MUST_CHECK;
/* The item id of a VIN or IMEI (normalized); REG_ENOTFOUND. */
int items_find(pg_conn *pg, const char *vin, const char *imei, char id_out[48]) REG_MUST_CHECK;

/* Appends an odometer reading (> 0) of a locked vehicle: ODOMETER_RECORDED
 * event and ODOMETER_READING history. A reading below the highest earlier
 * one brands the item ODOMETER_ROLLBACK_SUSPECTED (ITEM_BRANDED, BRANDED
 * history; once — a branded item stays branded) and sets *rolled_back. */
int items_odometer(pg_conn *pg, items_row *item, const char *org_id, int64_t mileage_km,
                   const char *listing_id, int *rolled_back) REG_MUST_CHECK;

/* Removes a brand (ClearBrand): BRAND_CLEARED event and history with the
 * reason and decision reference. Clearing ODOMETER_ROLLBACK_SUSPECTED also
 * resets the highest reading to the latest one (the reading in error no
 * longer counts; every reading stays in odometer_readings). REG_ENOTFOUND
 * when the item lacks the brand. */
int items_clear_brand(pg_conn *pg, items_row *item, const char *org_id, int brand,
                      const char *reason, const char *decision_ref) REG_MUST_CHECK;

/* Sets the item's status (STOLEN, ACTIVE, SCRAPPED) with no other effect. */
int items_set_status(pg_conn *pg, items_row *item, int status) REG_MUST_CHECK;

/* A listing status's name without its prefix ("ACTIVE", "SOLD"), for
 * history details and messages; "UNSPECIFIED" for an unknown value. */
const char *items_listing_status_name(int status);

/* One row of the item history (item_history), in the same transaction. */
typedef struct items_history {
  int kind;                 /* registry.v1.HistoryKind */
  const char *organization_id;
  const char *listing_id, *sale_id, *appraisal_id, *certificate_id, *invoice_id;
  int64_t mileage_km, price_fen;
  const char *detail;       /* never personal data */
  const char *event_id;     /* the event of the same change, or NULL */
} items_history;
int items_history_add(pg_conn *pg, const char *item_id, const items_history *h) REG_MUST_CHECK;

/* Suspends the open (ACTIVE, RESERVED) listings of a locked item — those
 * naming `certificate_id` only, when not NULL — adding `why` to their
 * suspended_for (an already SUSPENDED one just gains the bit). Each changed
 * listing: status SUSPENDED, status_detail (ITEM_STOLEN or
 * CERTIFICATE_REVOKED), a LISTING_SUSPENDED event by org_id and a
 * LISTING_STATUS_CHANGED history row. The ids of the listings that became
 * SUSPENDED go to *ids (arena) / *n. */
int items_suspend_listings(pg_conn *pg, arena *a, const items_row *item, const char *org_id,
                           int why, const char *certificate_id, char ***ids,
                           size_t *n) REG_MUST_CHECK;

/* Takes `why` off the item's SUSPENDED listings; those left with no reason
 * return to ACTIVE (LISTING_REACTIVATED event, history). *ids / *n: the
 * listings that became ACTIVE. */
int items_release_listings(pg_conn *pg, arena *a, const items_row *item, const char *org_id,
                           int why, char ***ids, size_t *n) REG_MUST_CHECK;

/* Loads an item as a response (owner opened with `ring`, clear when
 * `unmasked`). REG_ENOTFOUND. */
int items_get(pg_conn *pg, const pii_keyring *ring, arena *a, const char *item_id, int unmasked,
              Registry__V1__Item **out) REG_MUST_CHECK;

/* The packed Item as every non-inspector sees it: the record an item event
 * commits to (its SHA-256 goes into the leaf). */
int items_event(pg_conn *pg, const pii_keyring *ring, arena *a, int type, const char *org_id,
                const char *item_id, char *event_id_out) REG_MUST_CHECK;

#endif
